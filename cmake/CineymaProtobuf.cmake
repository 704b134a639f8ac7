# cineyma_protobuf_generate(<out-var> ROOT <import-root> OUT <dir> PROTOS <files...>)
#
# Runs protoc on each .proto (paths under ROOT) and sets <out-var> to the generated .pb.cc and
# .pb.h files, named as protoc names them: the path below ROOT with .pb.{cc,h}. (FindProtobuf's
# protobuf_generate in CMake 3.25 names them after the current source dir instead, which does
# not match protoc's output when the import root is elsewhere.)
function(cineyma_protobuf_generate out_var)
  cmake_parse_arguments(ARG "" "ROOT;OUT" "PROTOS" ${ARGN})
  set(generated)
  foreach(proto IN LISTS ARG_PROTOS)
    file(RELATIVE_PATH rel ${ARG_ROOT} ${proto})
    string(REGEX REPLACE "\\.proto$" "" stem ${rel})
    set(outputs ${ARG_OUT}/${stem}.pb.cc ${ARG_OUT}/${stem}.pb.h)
    add_custom_command(
      OUTPUT ${outputs}
      COMMAND ${CMAKE_COMMAND} -E make_directory ${ARG_OUT}
      COMMAND protobuf::protoc --proto_path=${ARG_ROOT} --cpp_out=${ARG_OUT} ${proto}
      DEPENDS ${proto} protobuf::protoc
      COMMENT "protoc ${rel}"
      VERBATIM)
    list(APPEND generated ${outputs})
  endforeach()
  set(${out_var} ${generated} PARENT_SCOPE)
endfunction()
