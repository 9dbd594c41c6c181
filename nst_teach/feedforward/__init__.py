"""Real-time style transfer: a network trained once per style paints any photo in one pass.

Taught in notebook 11. Gatys et al. optimise every image anew (hundreds of VGG19 passes each);
Johnson, Alahi & Fei-Fei (2016) train a feed-forward network instead, on random crops of
photographs, with the losses of ``stylize``. One idea per module:

- ``network``: the TransformNet, its layers, ``layer_table``, ``with_batch_norm``;
- ``crops``: the training photographs and the random crops cut from them;
- ``training``: ``TrainSettings``, ``train`` and its loop, ``Trained``;
- ``models``: ``stylize_with``, ``save_model``/``load_model``, ``pretrained``, ``judge``;
- ``quality``: ``grid_strength`` (a grid's spike in the spectrum), ``grid_penalty`` (the same
  grid as a loss term for training), ``colour_stats``.

``import nst_teach.feedforward as ff`` gives all of their public names (``ff.train``, ...).
"""

from .crops import (
                    HELD_OUT,
                    JITTER,
                    MAX_SCALE,
                    TRAINING_PHOTOS,
                    CropSampler,
                    describe_image,
                    jitter_colours,
                    photo_sources,
                    training_photos,
)
from .models import (
                    FILE_FORMAT,
                    FORMAT_VERSION,
                    MODELS_DIR,
                    ModelFileError,
                    judge,
                    load_model,
                    pretrained,
                    pretrained_names,
                    save_model,
                    stylize_with,
)
from .network import (
                    CHANNELS,
                    MIN_SIDE,
                    RES_BLOCKS,
                    UPSAMPLING,
                    ResidualBlock,
                    TransformNet,
                    check_architecture,
                    conv,
                    conv_block,
                    layer_table,
                    up_block,
                    with_batch_norm,
)
from .quality import GRID_PERIODS, colour_stats, grid_penalty, grid_strength
from .training import (
                    LR_SCHEDULES,
                    PRESETS,
                    Trained,
                    TrainSettings,
                    fit,
                    learning_rate,
                    loss_terms,
                    new_net,
                    train,
                    train_step,
)

__all__ = ["CHANNELS", "FILE_FORMAT", "FORMAT_VERSION", "GRID_PERIODS", "HELD_OUT", "JITTER",
           "LR_SCHEDULES", "MAX_SCALE", "MIN_SIDE", "MODELS_DIR", "PRESETS", "RES_BLOCKS",
           "TRAINING_PHOTOS", "UPSAMPLING", "CropSampler", "ModelFileError", "ResidualBlock",
           "TrainSettings", "Trained", "TransformNet", "check_architecture", "colour_stats",
           "conv", "conv_block", "describe_image", "fit", "grid_penalty", "grid_strength",
           "jitter_colours", "judge", "layer_table", "learning_rate", "load_model", "loss_terms",
           "new_net", "photo_sources", "pretrained", "pretrained_names", "save_model",
           "stylize_with", "train", "train_step", "training_photos", "up_block", "with_batch_norm"]
