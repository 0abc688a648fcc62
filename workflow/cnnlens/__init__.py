"""cnnlens: look inside a convolutional network.

The package is the library of the Snakemake workflow in this repository, one job per module
(the README's "Layout and development" lists them): the data, the model and its description
as data (``network``), the ascent engine in parts (``optvis``), the original input patterns
(``oip``), dreams (``dream``), activations, the atlas, and figures that only draw
(``plotting``). Importing the package itself is cheap: only the modules that compute with
TensorFlow import it.
"""

__version__ = "0.1.0"
