"""`make nbgrader`: an nbgrader course directory from the notebooks (nst_teach.course.nbgrader)."""

import sys

from nst_teach.course.nbgrader import main

if __name__ == "__main__":
    sys.exit(main())
