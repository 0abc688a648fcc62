# The atlas: a static site (results/atlas/index.html) with a page for every map of every conv
# layer and every node of the dense layers, and for every selected test image.
#
# atlas_examples reads every test image through the model once (TensorFlow) and keeps, per
# unit, its top-k test images and class profile; atlas_site (no TensorFlow) renders the pages
# from the Jinja2 templates in workflow/templates/atlas with the OIPs, node OIPs, class-pair
# comparisons and dreams of the other stages. The site is one directory output, one entry
# of the report (its index page opens inside the report).

ATLAS = config["atlas"]
ATLAS_LAYERS = [layer.name for layer in NETWORK.layers if layer.kind in ("conv", "dense")]
ATLAS_DATA = "results/atlas_data"
ATLAS_TEMPLATES = sorted(
    os.path.relpath(path) for path in (REPOSITORY / "workflow" / "templates" / "atlas").iterdir()
)
FINE_MAP_RENDERS = [render for render in FINE_RENDERS if render != "layers"]


rule atlas_examples:
    """Every test image through the model: per unit its top-k test images (by activation and
    by best position) and class profile; the selected images' activations."""
    input:
        **TEST_IMAGES,
        examples=rules.select_examples.output.examples,
        library=library_of("atlas_examples"),
    output:
        tables=[f"{ATLAS_DATA}/{layer}.npz" for layer in ATLAS_LAYERS],
        predictions=f"{ATLAS_DATA}/predictions.npz",
    params:
        layers=ATLAS_LAYERS,
        top_k=ATLAS["top_k"],
        seed=config["seed"],
    log:
        log_path("atlas/examples"),
    benchmark:
        benchmark_path("atlas/examples")
    threads: beside_another(2)
    resources:
        mem_mb=3000,
        runtime=15,
    conda:
        CONDA_ENV
    script:
        "../../scripts/atlas_examples.py"


rule atlas_site:
    """The atlas's pages, pictures and top-k tables, from the read-out and the other stages."""
    input:
        tables=rules.atlas_examples.output.tables,
        predictions=rules.atlas_examples.output.predictions,
        test_imgs=rules.prepare_data.output.test_imgs,
        manifest=rules.prepare_data.output.manifest,  # the preprocessing: the input range
        network=MODEL_FILES.network,
        examples=rules.select_examples.output.examples,
        oip_chunks=[
            chunk
            for layer in OIP_LAYERS
            for chunk in plan.chunk_files(NETWORK, layer, OIP["maps_per_job"])
        ],
        node_oips=rules.oip_nodes.output.arrays,
        comparisons=expand(
            f"{PAIR_DIRECTORY}/{{layer}}.csv",
            zip,
            first=[pair.split("_vs_")[0] for pair in ACTIVATION_PAIRS for _ in ACTIVATION_LAYERS],
            second=[pair.split("_vs_")[1] for pair in ACTIVATION_PAIRS for _ in ACTIVATION_LAYERS],
            layer=ACTIVATION_LAYERS * len(ACTIVATION_PAIRS),
        ),
        dream_maps=expand(rules.dream_maps.output.directory, photo=PHOTOS),
        fine_dreams=expand(
            "results/dreams/{photo}/fine/{render}/dream.png", photo=PHOTOS, render=FINE_MAP_RENDERS
        ),
        templates=ATLAS_TEMPLATES,
        library=library_of("atlas_site"),
    output:
        site=report(
            directory("results/atlas"),
            htmlindex="index.html",
            caption="../report/atlas.rst",
            category="6 Atlas",
        ),
    params:
        atlas=ATLAS,
        node_layer=OIP["node_oips"]["layer"],
        dream_layer=DREAM_LAYER,
        oip_colormap=OIP["colormap"],
        tile_colormap=ACTIVATIONS["grid"]["colormap"],
        class_names=CLASS_NAMES,
    log:
        log_path("atlas/site"),
    benchmark:
        benchmark_path("atlas/site")
    resources:
        mem_mb=2000,
        runtime=15,
    conda:
        CONDA_ENV
    script:
        "../../scripts/atlas_site.py"


TARGETS.extend(rules.atlas_site.output)
