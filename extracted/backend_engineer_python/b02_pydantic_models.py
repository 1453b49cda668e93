# Extracted by exampletest from docs/agents/backend-engineer-python.md:306 (block 2); edit the document.
from pydantic import BaseModel, Field, validator
from decimal import Decimal
from datetime import datetime

class TransactionCreate(BaseModel):
    amount: Decimal = Field(gt=0, decimal_places=2)
    currency: str = Field(min_length=3, max_length=3)
    description: str = Field(max_length=500)
    timestamp: datetime = Field(default_factory=datetime.utcnow)

    @validator('currency')
    def validate_currency(cls, v):
        if v not in ['USD', 'EUR', 'BRL']:
            raise ValueError(f'Unsupported currency: {v}')
        return v.upper()

    class Config:
        json_encoders = {
            Decimal: lambda v: str(v),
        }
