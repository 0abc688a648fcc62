"""The attribution stage: which pixels of a test image argue for a class, and how faithful
each answer is.

One job per module; ``scores``, ``methods`` and ``stage`` import TensorFlow, the others only
NumPy, so the figure jobs start without it:

* ``scores``: the model's class scores (the logits, before any softmax) and the last conv
  layer's maps, differentiable, in compiled TensorFlow functions;
* ``images``: the baselines (black: the input domain's minimum; blurred), the Grad-CAM
  upsampling through the receptive fields, and pixel orders;
* ``methods``: gradient saliency, SmoothGrad, integrated gradients (black and blurred
  baselines) and Grad-CAM for many images and classes in a few batched calls;
* ``maps``: from a class back to the last conv layer's maps, ranked by activation x gradient;
* ``deletion``: deletion curves (most-attributed pixels first, and random deletion);
* ``records``: the selected images' attributions saved to and loaded from one ``.npz``.
* ``stage``: the two computations the scripts call (the selected images explained; the
  deletion study);
* ``summary``: the per-image figures' names, deletion.csv read back, the Markdown index.

Nothing is imported here, so importing one module loads only what that module needs.
"""
