# Extracted by exampletest from docs/agents/backend-engineer-python.md:704 (block 11); edit the document.
from pydantic_settings import BaseSettings

# NEVER hardcode
# JWT_SECRET = "my-secret-key"  # BAD

class Settings(BaseSettings):
    jwt_secret: str = Field(..., min_length=32)
    database_url: str
    api_key: str = Field(..., min_length=20)

    class Config:
        env_file = '.env'

# Validate at startup
settings = Settings()  # Raises if missing/invalid
