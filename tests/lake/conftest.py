from __future__ import annotations

import sys
from pathlib import Path

# lake_rows (row builders, writer processes) is imported by name here and by the spawned writer processes.
sys.path.insert(0, str(Path(__file__).parent))
