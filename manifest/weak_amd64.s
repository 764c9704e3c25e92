#include "textflag.h"

// Weights 32, 31, …, 1 for the bytes of a 32-byte block (signed bytes for
// VPMADDUBSW), and int16 ones for VPMADDWD.
DATA weakWeights<>+0(SB)/8, $0x191a1b1c1d1e1f20
DATA weakWeights<>+8(SB)/8, $0x1112131415161718
DATA weakWeights<>+16(SB)/8, $0x090a0b0c0d0e0f10
DATA weakWeights<>+24(SB)/8, $0x0102030405060708
GLOBL weakWeights<>(SB), RODATA|NOPTR, $32

DATA weakOnes<>+0(SB)/8, $0x0001000100010001
DATA weakOnes<>+8(SB)/8, $0x0001000100010001
DATA weakOnes<>+16(SB)/8, $0x0001000100010001
DATA weakOnes<>+24(SB)/8, $0x0001000100010001
GLOBL weakOnes<>(SB), RODATA|NOPTR, $32

// func weakBlocksAVX2(p []byte, acc *[12]uint64)
TEXT ·weakBlocksAVX2(SB), NOSPLIT, $0-32
	MOVQ p_base+0(FP), SI
	MOVQ p_len+8(FP), CX
	MOVQ acc+24(FP), DI
	SHRQ $5, CX
	VPXOR Y0, Y0, Y0 // zero
	VPXOR Y1, Y1, Y1 // a: 4 x uint64
	VPXOR Y2, Y2, Y2 // Σ a before each block: 4 x uint64
	VPXOR Y3, Y3, Y3 // weighted sums: 8 x uint32
	VMOVDQU weakWeights<>(SB), Y4
	VMOVDQU weakOnes<>(SB), Y5
	TESTQ CX, CX
	JZ done

loop:
	VMOVDQU (SI), Y6
	VPADDQ Y1, Y2, Y2
	VPSADBW Y0, Y6, Y7
	VPADDQ Y7, Y1, Y1
	VPMADDUBSW Y4, Y6, Y8
	VPMADDWD Y5, Y8, Y8
	VPADDD Y8, Y3, Y3
	ADDQ $32, SI
	DECQ CX
	JNZ loop

done:
	VMOVDQU Y1, 0(DI)
	VMOVDQU Y2, 32(DI)
	VMOVDQU Y3, 64(DI)
	VZEROUPPER
	RET
