# Extracted by exampletest from docs/agents/backend-engineer-python.md:289 (block 1); edit the document.
from typing import Optional, List, Dict, Any
from decimal import Decimal
from datetime import datetime

def calculate_balance(
    transactions: List[Dict[str, Any]],
    currency: str,
    as_of_date: Optional[datetime] = None
) -> Decimal:
    """Calculate account balance with type safety."""
    ...
