# Extracted by exampletest from docs/agents/backend-engineer-python.md:440 (block 6); edit the document.
from pydantic import BaseSettings, PostgresDsn, validator
from typing import Optional

class Settings(BaseSettings):
    """Application settings with validation."""
    database_url: PostgresDsn
    redis_url: str
    jwt_secret: str
    jwt_algorithm: str = "HS256"
    environment: str = "development"
    log_level: str = "INFO"

    # Multi-tenancy
    enable_multi_tenancy: bool = True
    tenant_header_name: str = "X-Tenant-ID"

    # AWS Lambda specific
    aws_region: Optional[str] = None
    lambda_function_name: Optional[str] = None

    @validator('environment')
    def validate_environment(cls, v):
        if v not in ['development', 'staging', 'production']:
            raise ValueError(f'Invalid environment: {v}')
        return v

    class Config:
        env_file = ".env"
        case_sensitive = False

settings = Settings()
