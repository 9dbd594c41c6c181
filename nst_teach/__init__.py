"""nst_teach: the tested building blocks of neural style transfer, as taught in the notebooks."""
__version__ = "0.1.0"
