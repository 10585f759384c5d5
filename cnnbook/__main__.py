import sys

from cnnbook.cli import main

sys.exit(main())
