# The trainings comparison: do two trainings learn the same maps? Run k (1 .. trainings.runs-1)
# trains model.architecture again with seed + k, by the train rule itself (train_run); its
# files mirror the main model's under results/trainings/run_k/. trainings_match reads every
# conv layer out of all runs over the test images in one job and matches each layer's maps of
# run 0 (the main model) and run k one to one by their correlation; trainings_oip_search
# finds run k's OIPs with the oip stage's own search rule, and trainings_figure shows matched
# maps' OIPs side by side (run 0's from the oip stage's search).
#
# Not part of the default target `all`: it trains again (the default config: 2.5 min per run on
# 2 idle CPU cores, 6 min measured under load; the matching 50 CPU seconds).
# Build it with `snakemake --cores all trainings`.

from cnnlens.trainings import layout

TRAININGS = config["trainings"]
TRAINING_LAYERS = list(NETWORK.conv_layers)


if SETTINGS.model.file:

    rule trainings:
        """Stop with one line when asked for: an imported model has no training to repeat."""
        localrule: True
        input:
            lambda wildcards: sys.exit(layout.imported_model_error(SETTINGS.model.file)),

else:

    use rule train as train_run with:
        output:
            **{name: layout.run_path("{run}", path) for name, path in rules.train.output.items()},
        params:
            seed=lambda wildcards: layout.run_seed(config["seed"], wildcards.run),
        log:
            log_path("trainings/train_run_{run}"),
        benchmark:
            benchmark_path("trainings/train_run_{run}")
        wildcard_constraints:
            run=layout.RUN_PATTERN,

    use rule oip_search as trainings_oip_search with:
        input:
            **{**OIP_INPUTS, "model": layout.run_path("{run}", MODEL_FILES.model)},
            library=library_of("oip_search"),
        output:
            result=layout.run_path("{run}", rules.oip_search.output.result),
        log:
            log_path("trainings/run_{run}/oip_search_{layer}_{first}-{last}"),
        benchmark:
            benchmark_path("trainings/run_{run}/oip_search_{layer}_{first}-{last}")
        wildcard_constraints:
            run=layout.RUN_PATTERN,

    rule trainings_match:
        """Every conv layer's maps of run 0 matched one to one with each further run's by the
        correlation of their activations (all positions of all test images)."""
        input:
            models=[
                layout.run_path(run, MODEL_FILES.model) for run in range(TRAININGS["runs"])
            ],
            test_imgs=rules.prepare_data.output.test_imgs,
            library=library_of("trainings_match"),
        output:
            matchings=[layout.matching_file(layer) for layer in TRAINING_LAYERS],
            summary=report(
                f"{layout.DIRECTORY}/summary.csv",
                caption="../report/trainings_summary.rst",
                category="9 Trainings",
                labels={"content": "summary"},
            ),
            table=f"{layout.DIRECTORY}/summary.md",
        params:
            layers=TRAINING_LAYERS,
            match_threshold=TRAININGS["match_threshold"],
        log:
            log_path("trainings/match"),
        benchmark:
            benchmark_path("trainings/match")
        threads: 2
        # default: 2 models x 3 conv layers over 10,000 test images
        resources:
            mem_mb=3000,
            runtime=20,
        conda:
            CONDA_ENV
        script:
            "../../scripts/trainings_match.py"

    rule trainings_figure:
        """The OIPs of a layer's maps matched between run 0 and run k, best-matched to worst."""
        localrule: True
        input:
            matching=layout.matching_file("{layer}"),
            oips_a=lambda wildcards: plan.chunk_files(
                NETWORK, wildcards.layer, OIP["maps_per_job"]
            ),
            oips_b=lambda wildcards: layout.run_paths(
                wildcards.run, plan.chunk_files(NETWORK, wildcards.layer, OIP["maps_per_job"])
            ),
            library=library_of("trainings_figure"),
        output:
            figure=report(
                layout.figure_file("{layer}", "{run}"),
                caption="../report/trainings_oips.rst",
                category="9 Trainings",
                subcategory="{layer}",
                labels={"layer": "{layer}", "runs": "0 and {run}"},
            ),
        params:
            oip_pairs=TRAININGS["oip_pairs"],
            colormap=OIP["colormap"],
        log:
            log_path("trainings/figure_{layer}_run_{run}"),
        benchmark:
            benchmark_path("trainings/figure_{layer}_run_{run}")
        wildcard_constraints:
            run=layout.RUN_PATTERN,
        conda:
            CONDA_ENV
        script:
            "../../scripts/trainings_figure.py"

    rule trainings:
        """Build the trainings comparison: the further runs, the matching and the figures."""
        localrule: True
        input:
            rules.trainings_match.output,
            layout.figure_files(TRAINING_LAYERS, TRAININGS["runs"]),
