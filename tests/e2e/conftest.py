import os
import sys

sys.path.insert(0, os.path.dirname(__file__))  # the harness module, under importlib mode
