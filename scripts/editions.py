"""`make student`: the students' edition of the notebooks (nst_teach.course.editions)."""

import sys

from nst_teach.course.editions import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
