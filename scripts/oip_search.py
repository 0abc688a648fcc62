"""Rule oip_search: OIPs of one chunk of a layer's maps, with their test-set statistics."""

from cnnlens import runtime

inputs, output, params = snakemake.input, snakemake.output, snakemake.params  # noqa: F821
wildcards = snakemake.wildcards  # noqa: F821

with runtime.script_run(snakemake.log[0], snakemake.threads) as log:  # noqa: F821
    # Imported here so that TensorFlow's start-up messages go to the log.
    from cnnlens import oip
    from cnnlens.files import load_array
    from cnnlens.model import load_cnn

    runtime.make_deterministic(params.seed)
    log.info(
        "OIP search of %s maps %s..%s on %s",
        wildcards.layer,
        wildcards.first,
        wildcards.last,
        runtime.describe_device(),
    )
    settings = oip.SearchSettings.from_config(params.search, params.seed)
    test_images = oip.first_test_images(load_array(inputs.test_imgs), params.search["test_images"])
    maps = range(int(wildcards.first), int(wildcards.last) + 1)
    result = oip.search_maps(load_cnn(inputs.model), wildcards.layer, maps, settings, test_images)
    result.save(output.result)
