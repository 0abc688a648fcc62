"""Rule oip_study_hand: the Hand of MNIST series, one map climbed from starts of one noise
scale per series."""

from cnnlens import runtime

inputs, output, params = snakemake.input, snakemake.output, snakemake.params  # noqa: F821

with runtime.script_run(snakemake.log[0]) as log:  # noqa: F821
    # Imported inside the log's scope: TensorFlow's start-up messages go to the log.
    from cnnlens import device, preprocessing, settings
    from cnnlens.files import load_array, save_arrays
    from cnnlens.model import load_cnn
    from cnnlens.oip_study.experiment import run_hand

    device_name = device.prepare(snakemake.threads, params.seed)  # noqa: F821
    hand = settings.build(settings.Hand, params.hand)
    log.info("hand series of %s map %d, scales %s, on %s", hand.layer, hand.map, hand.scales,
             device_name)
    series = run_hand(
        load_cnn(inputs.model),
        hand,
        settings.build(settings.OipSearch, params.search),
        params.seed,
        load_array(inputs.test_imgs),
        preprocessing.from_manifest(inputs.manifest),
    )
    save_arrays(output.hand, series.arrays())
