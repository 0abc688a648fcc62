"""Rule attribution_figures: per selected test image, every attribution method for its
predicted class and its runner-up, one figure each. Needs no TensorFlow."""

from cnnlens import runtime

inputs, outputs, params = snakemake.input, snakemake.output, snakemake.params  # noqa: F821

with runtime.script_run(snakemake.log[0]) as log:  # noqa: F821
    from cnnlens.attribution.records import load_selected
    from cnnlens.files import load_array
    from cnnlens.plotting.attribution import plot_attribution_pages

    selected = load_selected(inputs.attributions)
    oips = [load_array(path) for path in inputs.oips]  # one per map, or none
    log.info("%s maps named per class, %s", params.top_maps,
             "with their OIPs" if oips else "without OIPs (not made for this layer)")
    plot_attribution_pages(selected, params.class_names, params.top_maps, outputs.figures, oips)
