build/src/common/ids.o: src/common/ids.c src/common/ids.h
src/common/ids.h:
