"""Exercise checkers that say WHAT is wrong: shape, transposition, n versus n-1, centring, scale.

Used in every notebook's exercises. An exercise cell (tagged ``exercise``) defines a stub whose
body is ``raise NotImplementedError(...)``; the student replaces that line and runs the checker:

    exercises.check_covariance_by_hand(covariance_by_hand)      # or check("01.1", ...)

A checker never raises: it returns a ``Feedback`` that shows as one line, "solved", "not yet:
<the mistake>" or "not solved yet", so a student notebook runs top to bottom.
``exercises.solved("01.1")`` tells later cells whether the answer bound to the exercise's name
(``covariance_by_hand``) is right, whatever order the cells ran in. An autograded (nbgrader)
test cell is ``exercises.check_covariance_by_hand(covariance_by_hand).require()``: it raises
AssertionError with the feedback line unless solved.

Where things live: ``core.py`` holds the machinery (Feedback, the registry, ``call_answer``,
``compare_answer``); ``nbNN_topic.py`` holds the checkers of notebook ``notebooks/NN_topic.ipynb``.
Adding a checker (one function per exercise, in notebook order, in its notebook's module):

    @exercise("04.1", "flatten_by_hand")
    def check_flatten_by_hand(fn) -> str:
        F = randn((3, 4, 5), seed=41)
        got = call_answer(fn, F, call="flatten_by_hand(F)")
        compare_answer(got, F.reshape(3, 20), "flatten_by_hand(F)", wrong=[("you ...", variant)])
        return "flatten_by_hand matches nt.flatten_features."   # the success message

then import it below. The name ("flatten_by_hand") must be the one the notebook defines, since
solved() looks it up there. Inside a checker, raise ``CheckFailed("what is wrong")``;
``call_answer`` and ``compare_answer`` do it for you. The wrong variants are the answers that
typical mistakes give, computed on the checker's own data, so the message names the mistake
instead of saying "wrong".
"""

from .core import (
    CHECKERS,
    SOLVED,
    UNSOLVED,
    WRONG,
    CheckFailed,
    Feedback,
    NotSolved,
    check,
    exercise,
    solved,
)
from .nb01_covariance import (
    check_covariance_by_hand,
    check_covariance_matrix,
    check_data_with_covariance,
)
from .nb02_correlation import check_correlation_from_covariance, check_pearson_r
from .nb03_gram_matrix import check_gram_by_hand, check_gram_from_statistics, check_gram_hw
from .nb04_feature_maps import check_feature_shape, check_flatten_by_hand
from .nb05_content_loss import check_content_loss_at, check_content_mse
from .nb06_style_loss import check_layer_style_loss, check_style_loss_by_hand
from .nb07_style_transfer import check_make_target, check_optimise
from .nb08_paper_figures import check_content_values, check_paper_to_ours
from .nb09_controls import check_blend_grams, check_luminance_of
from .nb10_under_the_hood import check_evals_to_reach, check_time_to_reach
from .nb11_real_time import check_break_even, check_instance_norm_by_hand, check_upsample_nearest

__all__ = [
    "CHECKERS", "SOLVED", "UNSOLVED", "WRONG", "CheckFailed", "Feedback", "NotSolved",
    "check", "exercise", "solved",
    "check_covariance_by_hand", "check_covariance_matrix", "check_data_with_covariance",
    "check_correlation_from_covariance", "check_pearson_r",
    "check_gram_by_hand", "check_gram_hw", "check_gram_from_statistics",
    "check_flatten_by_hand", "check_feature_shape",
    "check_content_mse", "check_content_loss_at",
    "check_layer_style_loss", "check_style_loss_by_hand",
    "check_make_target", "check_optimise",
    "check_paper_to_ours", "check_content_values",
    "check_luminance_of", "check_blend_grams",
    "check_evals_to_reach", "check_time_to_reach",
    "check_instance_norm_by_hand", "check_upsample_nearest", "check_break_even",
]
