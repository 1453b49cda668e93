# Extracted by exampletest from docs/agents/backend-engineer-python.md:723 (block 12); edit the document.
import logging
import structlog

# Configure structured logging
logger = structlog.get_logger()

# NEVER log sensitive data
logger.info(
    "user_login",
    email=user.email,
    password="[REDACTED]",  # Never log passwords
    token=token[:8] + "...",  # Truncate tokens
)

# Sanitize errors for clients
class AppError(Exception):
    def __init__(self, message: str, code: str, internal_details: str = None):
        self.message = message  # User-safe
        self.code = code
        self.internal_details = internal_details  # Log only
        super().__init__(message)

@app.exception_handler(AppError)
async def app_error_handler(request, exc):
    logger.error("app_error", code=exc.code, details=exc.internal_details)
    return JSONResponse(
        status_code=500,
        content={"error": exc.message, "code": exc.code}  # No internal details
    )
