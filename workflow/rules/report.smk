# The Snakemake HTML report (snakemake --report results/report.html): plots flagged with report() in
# the other rules, captioned from workflow/report/*.rst, and an overview page. The overview includes the
# summary table once the summary rule has written it; a report of a partial run (a target short of
# results/summary.csv) gets the overview without it.

report: "../report/workflow.rst" if Path("results/summary_report.rst").is_file() else "../report/workflow_partial.rst"
