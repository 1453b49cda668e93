"""Context stubs for docs/agents/backend-engineer-python.md: names its examples use but never define.

exampletest checks each block with these in scope (mypy and the smoke run). They started as
`exampletest stubs` placeholders and were refined by hand into small real definitions, so that
blocks using them are type-checked and run for real (an in-memory SQLite database stands in for
the application's).
"""

from typing import Any

from pydantic import BaseModel, ConfigDict
from sqlalchemy import String, create_engine
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from exampletest.placeholder import placeholder


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(255))
    name: Mapped[str] = mapped_column(String(100))


class UserCreate(BaseModel):
    email: str
    name: str
    password: str


class UserResponse(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    email: str
    name: str


_engine = create_engine("sqlite://")
Base.metadata.create_all(_engine)

async_session_maker: async_sessionmaker[AsyncSession] = async_sessionmaker()
session = Session(_engine)
# The doc's raw-SQL lines use a psycopg2-style cursor (``%s`` parameters): left a placeholder.
cursor: Any = placeholder("cursor")

user_id: int = 1
session.add(User(id=user_id, email="ada@example.com", name="Ada"))
session.commit()
password: str = "correct horse battery staple"
token: str = "eyJhbGciOiJIUzI1NiJ9.e30.signature"
