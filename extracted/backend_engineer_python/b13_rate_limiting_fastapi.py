# Extracted by exampletest from docs/agents/backend-engineer-python.md:756 (block 13); edit the document.
from slowapi import Limiter
from slowapi.util import get_remote_address

limiter = Limiter(key_func=get_remote_address)

@app.post("/auth/login")
@limiter.limit("5/minute")  # Auth: strict
async def login(request: Request):
    ...

@app.get("/api/users")
@limiter.limit("100/minute")  # API: reasonable
async def list_users(request: Request):
    ...
