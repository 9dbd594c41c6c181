"""The course tools: the students' edition, the slides, the nbgrader course (lecturers' side).

editions (``make student``: the students' copies of the notebooks, the exercise format), slides
(``make slides``: offline reveal.js decks), nbgrader (``make nbgrader``: a course directory).
Their entry points are scripts/editions.py, scripts/export_slides.py and scripts/make_nbgrader.py.
They need nbformat (and nbconvert, nbgrader for two of them), from the ``dev``, ``slides`` and
``grading`` extras, so ``import nst_teach`` never imports them.
"""
