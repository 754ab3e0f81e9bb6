# Python cannot be sandboxed: a restricted project does not run this file.
import os

os.system("touch /tmp/ecscope-pwned-by-python")
