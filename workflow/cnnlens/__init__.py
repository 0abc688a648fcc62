"""cnnlens: look inside a small convolutional network trained on MNIST.

The package is the shared library of the Snakemake workflow in this repository. Each module has
one job: ``mnist`` obtains and verifies the data, ``data`` standardises and stores the splits,
``model`` builds the CNN, ``training`` fits it, ``activations`` reads out feature maps, ``oip``
constructs optimal input patterns, ``dream`` renders DeepDream images, and ``plotting`` draws
the figures. Importing the package itself is cheap: TensorFlow is loaded only by the modules
that need it.
"""

__version__ = "0.1.0"
