"""Gradient ascent on a CNN's inputs ("optimisation-based visualisation"), in parts.

* :mod:`.preactivation`: the copy of the network that gives the conv layers' outputs before
  their ReLU (the values every objective reads), for any chain-shaped model; the roles of
  its layers in :mod:`.layer_roles`, its fast first conv layer in :mod:`.image_conv`;
* :mod:`.objectives`: what each image climbs, as values that compose (``+``, ``*``, stacking),
  penalty terms included; their graph side and the blur between steps in :mod:`.regularisers`;
* :mod:`.param`: what the ascent changes and how a step changes it (pixels, kept in the
  model's input range: re-standardised or clipped); :mod:`.param_fourier` the scaled spectrum;
* :mod:`.transforms`: what is done to the images around each step (random rolls of the state;
  random warps of the images inside the step);
* :mod:`.engine`: the compiled step and the evaluation of objectives for a batch;
* :mod:`.render`: the loop, with history, snapshots, convergence and a schedule.

The OIP search (:mod:`cnnlens.oip`) and the dreams (:mod:`cnnlens.dream`) are built on them.
"""
