# Extracted by exampletest from docs/agents/backend-engineer-python.md:677 (block 10); edit the document.
import jwt
from datetime import datetime, timedelta

# ALWAYS specify algorithm
def create_token(user_id: str, secret: str) -> str:
    payload = {
        'sub': user_id,
        'iat': datetime.utcnow(),
        'exp': datetime.utcnow() + timedelta(minutes=15),
        'iss': 'myapp',
        'aud': 'myapi',
    }
    return jwt.encode(payload, secret, algorithm='HS256')

# ALWAYS verify with algorithm restriction
def verify_token(token: str, secret: str) -> dict:
    return jwt.decode(
        token,
        secret,
        algorithms=['HS256'],  # Reject 'none' and others
        issuer='myapp',
        audience='myapi',
    )
