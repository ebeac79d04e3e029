"""The worker process `Reader` starts: `python -m index.extract FD_IN FD_OUT MEMORY_MB FORMATS`."""

import sys

from index.extract.worker import serve

serve(int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4] if len(sys.argv) > 4 else "")
