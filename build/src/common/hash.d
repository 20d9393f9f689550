build/src/common/hash.o: src/common/hash.c src/common/hash.h
src/common/hash.h:
