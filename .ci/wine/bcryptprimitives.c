/*
 * A stand-in for Windows' bcryptprimitives.dll, for running the Windows test binaries under
 * wine 8, which does not ship it. Rust's std for windows-gnu imports ProcessPrng from it for
 * its random numbers (HashMap keys); without the DLL a program does not even start
 * (status c0000135). This one answers ProcessPrng with RtlGenRandom (advapi32's
 * SystemFunction036), which wine has.
 *
 * Built by scripts/ci-setup.sh:
 *   x86_64-w64-mingw32-gcc -shared -O2 -o bcryptprimitives.dll bcryptprimitives.c -ladvapi32
 */
#include <windows.h>

/* RtlGenRandom, exported by advapi32 under this name. */
BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

/* Fills data with len random bytes; FALSE if the system generator failed. */
__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len)
{
    while (len > 0) {
        /* RtlGenRandom takes a 32-bit length. */
        ULONG chunk = len > 0x40000000 ? 0x40000000 : (ULONG)len;
        if (!SystemFunction036(data, chunk))
            return FALSE;
        data += chunk;
        len -= chunk;
    }
    return TRUE;
}
