build/src/common/errors.o: src/common/errors.c src/common/errors.h
src/common/errors.h:
