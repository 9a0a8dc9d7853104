set -u
PYTEST_PATHS="tests/python tests/compat" SANITIZE=1 BENCH_GROUPS=matmul,matmul4k,matmul2k,matmul_bf16,softmax3 BENCH_SECONDS=300 OUT=$OUT bash tools/gpu_final.sh 2>&1 | tail -40
cd /work 2>/dev/null; cd - >/dev/null
export PYTHONPATH=$PWD/build-dev/python TILEC_CACHE_DIR=/tmp/tilec-cache
timeout 90 ncu -k regex:softmax --section SpeedOfLight --section Occupancy --section WarpStateStats --section LaunchStats --section InstructionStats python3 bench/ncu_compare.py softmax > $OUT/ncu_softmax.txt 2>&1
echo "ncu exit $?"; grep -E "softmax_kernel|Duration|Registers Per|Achieved Occupancy|Executed Instructions  |Stall Long|One or More|No Eligible|Warp Cycles Per Issued" $OUT/ncu_softmax.txt | head -40
