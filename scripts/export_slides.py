"""`make slides`: offline reveal.js decks of the notebooks (nst_teach.course.slides)."""

import sys

from nst_teach.course.slides import main

if __name__ == "__main__":
    sys.exit(main())
