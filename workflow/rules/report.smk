# The Snakemake HTML report (snakemake --report results/report.html): plots flagged with report() in
# the other rules, captioned from workflow/report/*.rst, and this overview.

report: "../report/workflow.rst"
