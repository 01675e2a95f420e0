# kestrel_library(NAME DEPS...): a static library of every .cc under the calling folder, with src/
# and include/ on its include path and DEPS as its allowed dependencies. A folder with no sources
# yet (headers only) becomes an interface library.
function(kestrel_library name)
  file(GLOB_RECURSE sources CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/*.cc)
  if(sources)
    add_library(${name} STATIC ${sources})
    target_include_directories(${name} PUBLIC ${KESTREL_SRC} ${CMAKE_SOURCE_DIR}/include)
    target_link_libraries(${name} PUBLIC ${ARGN})
  else()
    add_library(${name} INTERFACE)
    target_include_directories(${name} INTERFACE ${KESTREL_SRC} ${CMAKE_SOURCE_DIR}/include)
    target_link_libraries(${name} INTERFACE ${ARGN})
  endif()
endfunction()
