# hubsync_embed_sql(<target> <namespace> <dir>) generates a source file that
# holds every NNNN_name.sql under <dir>, sorted, as a constexpr array of
# {version, name, sql}. The migrations ship inside the binary; editing one
# re-runs the generator.
function(hubsync_embed_sql target ns dir)
  file(GLOB sql_files CONFIGURE_DEPENDS "${dir}/*.sql")
  list(SORT sql_files)
  set(out "${CMAKE_CURRENT_BINARY_DIR}/${target}_embedded.cpp")
  add_custom_command(
    OUTPUT "${out}"
    COMMAND ${CMAKE_COMMAND} -DOUT=${out} -DNS=${ns} "-DFILES=${sql_files}"
            -P "${PROJECT_SOURCE_DIR}/cmake/embed_sql.cmake"
    DEPENDS ${sql_files} "${PROJECT_SOURCE_DIR}/cmake/embed_sql.cmake"
    COMMENT "Embedding migrations from ${dir}"
    VERBATIM)
  target_sources(${target} PRIVATE "${out}")
endfunction()
