"""The activations stage: what the CNN's layers make of test images, and of two classes.

One job per module; only :mod:`~cnnlens.activations.readout` imports TensorFlow, so the
figure jobs, which load what it read out, start without it:

* ``readout``: the outputs of named layers for a batch of images (TensorFlow);
* ``examples``: which test images to draw (clear, ambiguous, listed), their CSV rows and the
  Markdown index of their figures;
* ``example_set``: the selected images with every layer's activations, stored as ``.npz``;
* ``grids``: one image's layer activation as a mosaic of tiles, one per map or node;
* ``statistics``: per class and unit, mean and variance over the test set, and per image
  each map's mean activation;
* ``comparison``: two classes compared map by map (Cohen's d, AUC, rankings, separation).

Classes are named by the class names the rules pass (``CLASS_NAMES``: MNIST's are the digits);
a model whose last layer is linear gives logits, read as probabilities through a softmax.

Nothing is imported here, so importing one module loads only what that module needs.
"""
