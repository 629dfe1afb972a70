# SLM_SANITIZE=address,undefined or SLM_SANITIZE=thread: instrument everything we build.
if(SLM_SANITIZE)
  add_compile_options(-fsanitize=${SLM_SANITIZE} -fno-omit-frame-pointer -fno-sanitize-recover=all)
  add_link_options(-fsanitize=${SLM_SANITIZE})
endif()
