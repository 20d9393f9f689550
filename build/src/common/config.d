build/src/common/config.o: src/common/config.c src/common/config.h \
 src/common/timeutil.h
src/common/config.h:
src/common/timeutil.h:
