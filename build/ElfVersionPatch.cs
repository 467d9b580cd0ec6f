using System;
using System.IO;
using System.Text;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

// Build-time compatibility step for TorchSharp on systems whose libstdc++ predates GCC 13.
// Explained in TorchSharpNativeCompat.targets. Edits only ELF version bookkeeping, in place.
public sealed class PatchTorchSharpGlibcxx : Task
{
    const string Needed = "GLIBCXX_3.4.32", Fallback = "GLIBCXX_3.4.30";
    static readonly string[] SystemLibstdcxx =
    {
        "/usr/lib/x86_64-linux-gnu/libstdc++.so.6", "/lib/x86_64-linux-gnu/libstdc++.so.6",
        "/usr/lib64/libstdc++.so.6", "/usr/lib/libstdc++.so.6", "/usr/lib/aarch64-linux-gnu/libstdc++.so.6",
    };

    [Required] public string Library { get; set; } = "";

    public override bool Execute()
    {
        var system = Array.Find(SystemLibstdcxx, File.Exists);
        if (system is null || Contains(File.ReadAllBytes(system), Needed))
            return true; // new enough (or not a glibc system): leave TorchSharp untouched
        try
        {
            var elf = File.ReadAllBytes(Library);
            if (!Patch(elf)) return true; // already patched
            var tmp = Library + ".patching";
            File.WriteAllBytes(tmp, elf);
            File.Delete(Library); // new inode: never writes through a hard link into the NuGet cache
            File.Move(tmp, Library);
            Log.LogMessage(MessageImportance.High, $"TorchSharp: {Path.GetFileName(Library)} adapted to {system} (lacks {Needed}).");
            return true;
        }
        catch (InvalidDataException e)
        {
            Log.LogError($"TorchSharp native compatibility step failed on {Library}: {e.Message}");
            return false;
        }
    }

    static bool Patch(byte[] f)
    {
        if (f.Length < 64 || f[0] != 0x7f || f[1] != (byte)'E' || f[4] != 2 || f[5] != 1)
            throw new InvalidDataException("not a little-endian ELF64 file");
        long shoff = I64(f, 0x28);
        int shentsize = U16(f, 0x3A), shnum = U16(f, 0x3C);
        int dynsym = -1, versym = -1, verneed = -1;
        for (int i = 0; i < shnum; i++)
        {
            uint type = U32(f, shoff + i * shentsize + 4);
            if (type == 11) dynsym = i; else if (type == 0x6fffffff) versym = i; else if (type == 0x6ffffffe) verneed = i;
        }
        if (dynsym < 0 || versym < 0 || verneed < 0) throw new InvalidDataException("no dynamic symbol version sections");
        long Sh(int i, int field) => shoff + i * shentsize + field;
        long strtab = I64(f, Sh((int)U32(f, Sh(verneed, 40)), 24));

        // Find libstdc++'s GLIBCXX_3.4.32 and GLIBCXX_3.4.30 requirements.
        long need = I64(f, Sh(verneed, 24)), wanted = -1, fallback = -1;
        for (uint n = 0, count = U32(f, Sh(verneed, 44)); n < count; n++)
        {
            if (Str(f, strtab + U32(f, need + 4)).StartsWith("libstdc++.so", StringComparison.Ordinal))
            {
                long aux = need + U32(f, need + 8);
                for (int a = 0, cnt = U16(f, need + 2); a < cnt; a++)
                {
                    var name = Str(f, strtab + U32(f, aux + 8));
                    if (name == Needed) wanted = aux; else if (name == Fallback) fallback = aux;
                    aux += U32(f, aux + 12);
                }
            }
            need += U32(f, need + 12);
        }
        if (wanted < 0) return false;
        if (fallback < 0) throw new InvalidDataException($"no {Fallback} requirement to reuse");
        ushort version = U16(f, wanted + 6);

        // Every symbol bound to that version must be an undefined one that no relocation uses.
        long symOff = I64(f, Sh(dynsym, 24)), symCount = I64(f, Sh(dynsym, 32)) / 24, verOff = I64(f, Sh(versym, 24));
        for (long s = 0; s < symCount; s++)
        {
            if ((U16(f, verOff + s * 2) & 0x7fff) != version) continue;
            if (U16(f, symOff + s * 24 + 6) != 0) throw new InvalidDataException($"symbol #{s} bound to {Needed} is defined here");
            if (IsRelocated(f, shoff, shentsize, shnum, dynsym, s)) throw new InvalidDataException($"symbol #{s} bound to {Needed} is used by a relocation");
            f[verOff + s * 2] = 1; f[verOff + s * 2 + 1] = 0; // VER_NDX_GLOBAL
        }
        Array.Copy(f, fallback, f, wanted, 4);         // vna_hash
        Array.Copy(f, fallback + 8, f, wanted + 8, 4); // vna_name
        return true;
    }

    static bool IsRelocated(byte[] f, long shoff, int shentsize, int shnum, int dynsym, long symbol)
    {
        for (int i = 0; i < shnum; i++)
        {
            long h = shoff + i * shentsize;
            if (U32(f, h + 4) != 4 || U32(f, h + 40) != dynsym) continue; // SHT_RELA against .dynsym
            long off = I64(f, h + 24), size = I64(f, h + 32);
            for (long r = off; r < off + size; r += 24)
                if ((I64(f, r + 8) >> 32) == symbol) return true;
        }
        return false;
    }

    static bool Contains(byte[] haystack, string needle)
    {
        var n = Encoding.ASCII.GetBytes(needle);
        for (int i = Array.IndexOf(haystack, n[0]); i >= 0 && i <= haystack.Length - n.Length; i = Array.IndexOf(haystack, n[0], i + 1))
        {
            int k = 1;
            while (k < n.Length && haystack[i + k] == n[k]) k++;
            if (k == n.Length) return true;
        }
        return false;
    }
    static string Str(byte[] f, long at) { int end = Array.IndexOf(f, (byte)0, (int)at); return Encoding.ASCII.GetString(f, (int)at, end - (int)at); }
    static ushort U16(byte[] f, long at) => BitConverter.ToUInt16(f, (int)at);
    static uint U32(byte[] f, long at) => BitConverter.ToUInt32(f, (int)at);
    static long I64(byte[] f, long at) => BitConverter.ToInt64(f, (int)at);
}
