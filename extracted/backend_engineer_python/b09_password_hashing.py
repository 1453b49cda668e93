# Extracted by exampletest from docs/agents/backend-engineer-python.md:645 (block 9); edit the document.
from argon2 import PasswordHasher
from argon2.exceptions import VerifyMismatchError
import bcrypt

# PREFERRED - Argon2id
ph = PasswordHasher(
    time_cost=3,
    memory_cost=65536,  # 64 MB
    parallelism=4,
    hash_len=32,
    type=argon2.Type.ID,
)
hash = ph.hash(password)

def verify_password(hash: str, password: str) -> bool:
    try:
        ph.verify(hash, password)
        return True
    except VerifyMismatchError:
        return False

# ALTERNATIVE - bcrypt (work factor 12+)
salt = bcrypt.gensalt(rounds=12)
hash = bcrypt.hashpw(password.encode(), salt)
is_valid = bcrypt.checkpw(password.encode(), hash)

# NEVER - Weak hashing
# hash = hashlib.sha256(password.encode()).hexdigest()  # BAD
