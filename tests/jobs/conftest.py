import sys
from pathlib import Path

# The project's test harnesses (a real PostgreSQL server).
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "harness"))
