# Extracted by exampletest from docs/agents/backend-engineer-python.md:401 (block 5); edit the document.
from typing import Protocol
from fastapi import Depends

class UserRepository(Protocol):
    """Protocol for user repository implementations."""
    async def get_by_id(self, user_id: int) -> Optional[User]: ...
    async def create(self, user: UserCreate) -> User: ...

class PostgresUserRepository:
    """PostgreSQL implementation of user repository."""
    def __init__(self, db: AsyncSession):
        self.db = db

    async def get_by_id(self, user_id: int) -> Optional[User]:
        result = await self.db.execute(
            select(User).where(User.id == user_id)
        )
        return result.scalar_one_or_none()

async def get_user_repo(
    db: AsyncSession = Depends(get_db)
) -> UserRepository:
    """Factory for user repository with dependency injection."""
    return PostgresUserRepository(db)

@app.post("/users")
async def create_user(
    user_data: UserCreate,
    repo: UserRepository = Depends(get_user_repo)
) -> UserResponse:
    """Endpoint with injected repository dependency."""
    user = await repo.create(user_data)
    return UserResponse.from_orm(user)
