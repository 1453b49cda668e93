# Extracted by exampletest from docs/agents/backend-engineer-python.md:362 (block 4); edit the document.
from typing import Optional
from contextlib import asynccontextmanager
import structlog

logger = structlog.get_logger()

class ServiceError(Exception):
    """Base exception for service errors."""
    def __init__(self, message: str, error_code: str, details: Optional[Dict] = None):
        self.message = message
        self.error_code = error_code
        self.details = details or {}
        super().__init__(self.message)

@asynccontextmanager
async def handle_database_errors():
    """Context manager for database error handling."""
    try:
        yield
    except IntegrityError as e:
        logger.error("database.integrity_error", error=str(e))
        raise ServiceError(
            message="Data integrity violation",
            error_code="DB_INTEGRITY_ERROR",
            details={"original_error": str(e)}
        )
    except OperationalError as e:
        logger.error("database.operational_error", error=str(e))
        raise ServiceError(
            message="Database operation failed",
            error_code="DB_OPERATIONAL_ERROR",
            details={"original_error": str(e)}
        )
