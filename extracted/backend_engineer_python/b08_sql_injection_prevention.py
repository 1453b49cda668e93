# Extracted by exampletest from docs/agents/backend-engineer-python.md:625 (block 8); edit the document.
# BAD - SQL injection vulnerability
query = f"SELECT * FROM users WHERE id = {user_id}"
cursor.execute(query)

# GOOD - SQLAlchemy ORM (automatically parameterized)
user = session.query(User).filter(User.id == user_id).first()

# GOOD - SQLAlchemy Core with parameters
from sqlalchemy import text
result = session.execute(
    text("SELECT * FROM users WHERE id = :user_id"),
    {"user_id": user_id}
)

# GOOD - Raw psycopg2 with parameters
cursor.execute("SELECT * FROM users WHERE id = %s", (user_id,))
