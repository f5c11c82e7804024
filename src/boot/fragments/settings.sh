script_interface=3
root="${KMM_DAY1_ROOT:-}"
