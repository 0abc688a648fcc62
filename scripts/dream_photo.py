"""Rule dream_photo: read one photo, make it grey, cap its size and standardise it."""

from cnnlens import runtime

inputs, outputs, params = snakemake.input, snakemake.output, snakemake.params  # noqa: F821

# No thread limit: that would import TensorFlow, which this job does not need.
with runtime.script_run(snakemake.log[0]) as log:  # noqa: F821
    from cnnlens.dream.display import adjust_range, save_grey_png
    from cnnlens.files import save_array
    from cnnlens.photos import load_photo

    photo = load_photo(inputs.photo, params.max_side, params.min_side)
    log.info("photo %s: %d x %d pixels (width x height) after capping", inputs.photo,
             photo.shape[1], photo.shape[0])
    save_array(outputs.array, photo)
    save_grey_png(adjust_range(photo), outputs.image)
