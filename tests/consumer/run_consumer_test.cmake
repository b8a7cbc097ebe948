# Installs opgraph, moves the install tree elsewhere, builds this consumer and the example
# plugin against it and runs the moved `opgraph` with them. Run with cmake -P (see tests/CMakeLists).
function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "failed (${rc}): ${ARGN}\n${out}\n${err}")
  endif()
  set(last_output "${out}" PARENT_SCOPE)
endfunction()

function(expect text)
  string(FIND "${last_output}" "${text}" at)
  if(at EQUAL -1)
    message(FATAL_ERROR "expected '${text}' in:\n${last_output}")
  endif()
endfunction()

# Parallel jobs of the consumer builds; OPGRAPH_TEST_JOBS in the environment overrides.
set(jobs 2)
if(DEFINED ENV{OPGRAPH_TEST_JOBS})
  set(jobs $ENV{OPGRAPH_TEST_JOBS})
endif()

file(REMOVE_RECURSE ${WORK_DIR})
run(${CMAKE_COMMAND} --install ${BINARY_DIR} --prefix ${WORK_DIR}/prefix)
file(RENAME ${WORK_DIR}/prefix ${WORK_DIR}/moved)
set(prefix ${WORK_DIR}/moved)

run(${prefix}/bin/opgraph summary ${SOURCE_DIR}/graphs/mnist.yaml)
expect("Total params: 14,568")

run(${CMAKE_COMMAND} -S ${SOURCE_DIR}/tests/consumer -B ${WORK_DIR}/build
    -DCMAKE_PREFIX_PATH=${prefix} -DCMAKE_BUILD_TYPE=Release)
run(${CMAKE_COMMAND} --build ${WORK_DIR}/build -j${jobs})

run(${prefix}/bin/opgraph ops --op consumer_scale --plugin-path ${WORK_DIR}/build/consumer_ops.so)
expect("plugin 'consumer'")
expect("factor: float, default 2.0")
run(${WORK_DIR}/build/consumer_app ${WORK_DIR}/build)
expect("ops: ")
# The op author's kit is installed: every <opgraph/ops/...> header compiled on its own above.
if(NOT EXISTS ${prefix}/include/opgraph/ops/plain_loop_kernel.hpp)
  message(FATAL_ERROR "the op author's kit is not installed in ${prefix}/include/opgraph/ops")
endif()
# The documented example plugin (examples/plugin, docs/plugins.md): builds out of tree,
# passes the shared gradient check from the CLI, and a graph using it validates.
run(${CMAKE_COMMAND} -S ${SOURCE_DIR}/examples/plugin -B ${WORK_DIR}/swish
    -DCMAKE_PREFIX_PATH=${prefix} -DCMAKE_BUILD_TYPE=Release)
run(${CMAKE_COMMAND} --build ${WORK_DIR}/swish -j${jobs})
run(${prefix}/bin/opgraph gradcheck --op swish --plugin ${WORK_DIR}/swish/swish_plugin.so)
expect("3 passed, 0 failed")
run(${prefix}/bin/opgraph check ${SOURCE_DIR}/examples/plugin/swish_mlp.yaml
    --plugin-path ${WORK_DIR}/swish/swish_plugin.so)
expect(": ok: 5 nodes")
message(STATUS "install tree relocated to ${prefix} and used out of tree: ok")
