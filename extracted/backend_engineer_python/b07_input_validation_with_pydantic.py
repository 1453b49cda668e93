# Extracted by exampletest from docs/agents/backend-engineer-python.md:600 (block 7); edit the document.
from pydantic import BaseModel, Field, field_validator
import re

class CreateUserRequest(BaseModel):
    email: str = Field(..., max_length=255)
    password: str = Field(..., min_length=12, max_length=128)
    name: str = Field(..., min_length=1, max_length=100)

    @field_validator('email')
    @classmethod
    def validate_email(cls, v: str) -> str:
        if not re.match(r'^[\w\.-]+@[\w\.-]+\.\w+$', v):
            raise ValueError('Invalid email format')
        return v.lower()

    @field_validator('name')
    @classmethod
    def validate_name(cls, v: str) -> str:
        if not re.match(r'^[a-zA-Z\s]+$', v):
            raise ValueError('Name must contain only letters')
        return v.strip()
