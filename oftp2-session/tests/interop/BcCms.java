// Bouncy Castle's side of the CMS interop tests (tests/cms_interop.rs): compresses,
// signs, encrypts and undoes each, and runs the whole OFTP2 file pipeline (RFC 5024 §6.1:
// sign, compress, encrypt) the way Java OFTP2 products built on Bouncy Castle do.
//
// Usage: java -cp <classes>:bcprov.jar:bcpkix.jar:bcutil.jar BcCms <command> <args...>
//        java ... BcCms serve      (commands on stdin, one per line, arguments tab-separated)
//   compress   IN OUT
//   decompress IN OUT
//   sign       IN OUT CERT KEY DIGEST          DIGEST: SHA1 SHA256 SHA384 SHA512
//   verify     IN OUT CERT                     writes the signed content, checks the signer
//   encrypt    IN OUT CERT CIPHER              CIPHER: aes256 des3
//   decrypt    IN OUT CERT KEY
//   protect    IN OUT SIGNER_CERT SIGNER_KEY RECIPIENT_CERT DIGEST CIPHER NESTING
//              NESTING: contentinfo (each inner layer's ContentInfo DER is the outer
//              layer's id-data content) or typed (RFC 5652: the outer eContentType names
//              the inner type and the octets are the inner SignedData/CompressedData)
//   unprotect  IN OUT RECIPIENT_CERT RECIPIENT_KEY SIGNER_CERT
//              accepts both nestings
// CERT and KEY files are PEM (CERTIFICATE; PRIVATE KEY or RSA PRIVATE KEY) or DER.
// Exit status 0 on success; on failure a message on stderr and status 1.

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.security.PrivateKey;
import java.security.Security;
import java.security.cert.X509Certificate;
import java.util.Collection;
import java.util.Collections;

import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.ASN1Primitive;
import org.bouncycastle.asn1.cms.CMSObjectIdentifiers;
import org.bouncycastle.asn1.cms.ContentInfo;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaCertStore;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cms.CMSAlgorithm;
import org.bouncycastle.cms.CMSCompressedDataParser;
import org.bouncycastle.cms.CMSCompressedDataStreamGenerator;
import org.bouncycastle.cms.CMSEnvelopedDataParser;
import org.bouncycastle.cms.CMSEnvelopedDataStreamGenerator;
import org.bouncycastle.cms.CMSSignedDataParser;
import org.bouncycastle.cms.CMSSignedDataStreamGenerator;
import org.bouncycastle.cms.CMSTypedStream;
import org.bouncycastle.cms.RecipientInformation;
import org.bouncycastle.cms.SignerInformation;
import org.bouncycastle.cms.SignerInformationStore;
import org.bouncycastle.cms.jcajce.JcaSimpleSignerInfoGeneratorBuilder;
import org.bouncycastle.cms.jcajce.JcaSimpleSignerInfoVerifierBuilder;
import org.bouncycastle.cms.jcajce.JceCMSContentEncryptorBuilder;
import org.bouncycastle.cms.jcajce.JceKeyTransEnvelopedRecipient;
import org.bouncycastle.cms.jcajce.JceKeyTransRecipientId;
import org.bouncycastle.cms.jcajce.JceKeyTransRecipientInfoGenerator;
import org.bouncycastle.cms.jcajce.ZlibCompressor;
import org.bouncycastle.cms.jcajce.ZlibExpanderProvider;
import org.bouncycastle.jce.provider.BouncyCastleProvider;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.operator.jcajce.JcaDigestCalculatorProviderBuilder;

public final class BcCms {
    private BcCms() {}

    public static void main(String[] args) {
        Security.addProvider(new BouncyCastleProvider());
        if (args.length == 1 && args[0].equals("serve")) {
            serve();
            return;
        }
        try {
            run(args);
        } catch (Exception e) {
            System.err.println("BcCms " + String.join(" ", args) + ": " + e);
            e.printStackTrace();
            System.exit(1);
        }
    }

    /**
     * One command per line on stdin, arguments separated by tabs; answers "ok" or
     * "error <message>" on a line of stdout. Ends at the end of stdin. Saves a JVM start
     * per command.
     */
    private static void serve() {
        java.io.BufferedReader in = new java.io.BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        java.io.PrintStream out = System.out;
        try {
            String line;
            while ((line = in.readLine()) != null) {
                String[] a = line.split("\t");
                try {
                    run(a);
                    out.println("ok");
                } catch (Exception e) {
                    java.io.StringWriter trace = new java.io.StringWriter();
                    e.printStackTrace(new java.io.PrintWriter(trace));
                    out.println("error " + (e + " | " + trace).replace('\n', ' ').replace('\r', ' '));
                }
                out.flush();
            }
        } catch (java.io.IOException e) {
            System.exit(1);
        }
    }

    private static void run(String[] a) throws Exception {
        if (a.length < 3) {
            throw new IllegalArgumentException("usage: BcCms <command> IN OUT ...");
        }
        byte[] in = Files.readAllBytes(Paths.get(a[1]));
        byte[] out;
        switch (a[0]) {
            case "compress":
                out = compress(in, CMSObjectIdentifiers.data);
                break;
            case "decompress":
                out = decompress(in);
                break;
            case "sign":
                need(a, 5);
                out = sign(in, CMSObjectIdentifiers.data, cert(a[3]), key(a[4]), a[5]);
                break;
            case "verify":
                need(a, 4);
                out = verify(in, cert(a[3]));
                break;
            case "encrypt":
                need(a, 5);
                out = encrypt(in, CMSObjectIdentifiers.data, cert(a[3]), a[4]);
                break;
            case "decrypt":
                need(a, 5);
                out = decrypt(in, cert(a[3]), key(a[4]));
                break;
            case "protect":
                need(a, 9);
                out = protect(in, cert(a[3]), key(a[4]), cert(a[5]), a[6], a[7], a[8]);
                break;
            case "unprotect":
                need(a, 6);
                out = unprotect(in, cert(a[3]), key(a[4]), cert(a[5]));
                break;
            default:
                throw new IllegalArgumentException("unknown command " + a[0]);
        }
        Files.write(Paths.get(a[2]), out);
    }

    private static void need(String[] a, int n) {
        if (a.length < n) {
            throw new IllegalArgumentException(a[0] + " needs " + (n - 1) + " arguments");
        }
    }

    // --- inputs -------------------------------------------------------------------------

    private static boolean isPem(byte[] b) {
        return new String(b, 0, Math.min(b.length, 4096), StandardCharsets.ISO_8859_1).contains("-----BEGIN ");
    }

    private static X509Certificate cert(String path) throws Exception {
        byte[] b = Files.readAllBytes(Paths.get(path));
        X509CertificateHolder holder;
        if (isPem(b)) {
            try (PEMParser p = new PEMParser(new InputStreamReader(new ByteArrayInputStream(b), StandardCharsets.US_ASCII))) {
                Object o;
                holder = null;
                while ((o = p.readObject()) != null) {
                    if (o instanceof X509CertificateHolder) {
                        holder = (X509CertificateHolder) o;
                        break;
                    }
                }
                if (holder == null) {
                    throw new IllegalArgumentException("no certificate in " + path);
                }
            }
        } else {
            holder = new X509CertificateHolder(b);
        }
        return new JcaX509CertificateConverter().setProvider("BC").getCertificate(holder);
    }

    private static PrivateKey key(String path) throws Exception {
        byte[] b = Files.readAllBytes(Paths.get(path));
        JcaPEMKeyConverter conv = new JcaPEMKeyConverter().setProvider("BC");
        if (!isPem(b)) {
            return conv.getPrivateKey(PrivateKeyInfo.getInstance(b));
        }
        try (PEMParser p = new PEMParser(new InputStreamReader(new ByteArrayInputStream(b), StandardCharsets.US_ASCII))) {
            Object o;
            while ((o = p.readObject()) != null) {
                if (o instanceof PrivateKeyInfo) {
                    return conv.getPrivateKey((PrivateKeyInfo) o);
                }
                if (o instanceof PEMKeyPair) {
                    return conv.getKeyPair((PEMKeyPair) o).getPrivate();
                }
            }
        }
        throw new IllegalArgumentException("no private key in " + path);
    }

    private static byte[] drain(InputStream s) throws Exception {
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        s.transferTo(o);
        return o.toByteArray();
    }

    // --- single layers (streaming generators and parsers) -------------------------------

    static byte[] compress(byte[] content, ASN1ObjectIdentifier type) throws Exception {
        ByteArrayOutputStream bOut = new ByteArrayOutputStream();
        CMSCompressedDataStreamGenerator gen = new CMSCompressedDataStreamGenerator();
        try (OutputStream o = gen.open(type, bOut, new ZlibCompressor())) {
            o.write(content);
        }
        return bOut.toByteArray();
    }

    static byte[] decompress(byte[] cms) throws Exception {
        CMSCompressedDataParser p = new CMSCompressedDataParser(cms);
        CMSTypedStream s = p.getContent(new ZlibExpanderProvider());
        byte[] out = drain(s.getContentStream());
        p.close();
        return out;
    }

    static byte[] sign(byte[] content, ASN1ObjectIdentifier type, X509Certificate cert, PrivateKey key, String digest)
            throws Exception {
        String alg = digest.toUpperCase().replace("-", "") + "withRSA";
        CMSSignedDataStreamGenerator gen = new CMSSignedDataStreamGenerator();
        gen.addSignerInfoGenerator(new JcaSimpleSignerInfoGeneratorBuilder().setProvider("BC").build(alg, key, cert));
        gen.addCertificates(new JcaCertStore(Collections.singletonList(cert)));
        ByteArrayOutputStream bOut = new ByteArrayOutputStream();
        try (OutputStream o = gen.open(type, bOut, true)) {
            o.write(content);
        }
        return bOut.toByteArray();
    }

    static byte[] verify(byte[] cms, X509Certificate cert) throws Exception {
        CMSSignedDataParser p = new CMSSignedDataParser(new JcaDigestCalculatorProviderBuilder().setProvider("BC").build(), cms);
        byte[] content = drain(p.getSignedContent().getContentStream());
        SignerInformationStore signers = p.getSignerInfos();
        Collection<SignerInformation> all = signers.getSigners();
        if (all.isEmpty()) {
            throw new IllegalStateException("no SignerInfo");
        }
        X509CertificateHolder holder = new X509CertificateHolder(cert.getEncoded());
        for (SignerInformation si : all) {
            if (!si.getSID().match(holder)) {
                throw new IllegalStateException("SignerInfo sid " + si.getSID() + " does not name " + cert.getSubjectX500Principal());
            }
            if (!si.verify(new JcaSimpleSignerInfoVerifierBuilder().setProvider("BC").build(cert))) {
                throw new IllegalStateException("signature does not verify");
            }
        }
        p.close();
        return content;
    }

    static byte[] encrypt(byte[] content, ASN1ObjectIdentifier type, X509Certificate cert, String cipher) throws Exception {
        ASN1ObjectIdentifier alg;
        switch (cipher) {
            case "aes256":
                alg = CMSAlgorithm.AES256_CBC;
                break;
            case "des3":
                alg = CMSAlgorithm.DES_EDE3_CBC;
                break;
            default:
                throw new IllegalArgumentException("cipher " + cipher + " is not aes256 or des3");
        }
        CMSEnvelopedDataStreamGenerator gen = new CMSEnvelopedDataStreamGenerator();
        gen.addRecipientInfoGenerator(new JceKeyTransRecipientInfoGenerator(cert).setProvider("BC"));
        ByteArrayOutputStream bOut = new ByteArrayOutputStream();
        try (OutputStream o = gen.open(type, bOut, new JceCMSContentEncryptorBuilder(alg).setProvider("BC").build())) {
            o.write(content);
        }
        return bOut.toByteArray();
    }

    /** Decrypts; returns the content type and the content. */
    static CMSTypedStream decryptTyped(byte[] cms, X509Certificate cert, PrivateKey key) throws Exception {
        CMSEnvelopedDataParser p = new CMSEnvelopedDataParser(cms);
        RecipientInformation r = p.getRecipientInfos().get(new JceKeyTransRecipientId(cert));
        if (r == null) {
            throw new IllegalStateException("no RecipientInfo for " + cert.getSubjectX500Principal());
        }
        return r.getContentStream(new JceKeyTransEnvelopedRecipient(key).setProvider("BC"));
    }

    static byte[] decrypt(byte[] cms, X509Certificate cert, PrivateKey key) throws Exception {
        return drain(decryptTyped(cms, cert, key).getContentStream());
    }

    // --- the OFTP2 pipeline ---------------------------------------------------------------

    /** The inner structure (SignedData, CompressedData) out of its ContentInfo. */
    private static byte[] inner(byte[] contentInfo) throws Exception {
        return ContentInfo.getInstance(ASN1Primitive.fromByteArray(contentInfo)).getContent().toASN1Primitive().getEncoded("DER");
    }

    static byte[] protect(byte[] data, X509Certificate signer, PrivateKey key, X509Certificate recipient, String digest,
            String cipher, String nesting) throws Exception {
        byte[] signed = sign(data, CMSObjectIdentifiers.data, signer, key, digest);
        switch (nesting) {
            case "contentinfo": {
                byte[] compressed = compress(signed, CMSObjectIdentifiers.data);
                return encrypt(compressed, CMSObjectIdentifiers.data, recipient, cipher);
            }
            case "typed": {
                byte[] compressed = compress(inner(signed), CMSObjectIdentifiers.signedData);
                return encrypt(inner(compressed), CMSObjectIdentifiers.compressedData, recipient, cipher);
            }
            default:
                throw new IllegalArgumentException("nesting " + nesting + " is not contentinfo or typed");
        }
    }

    /** A layer's ContentInfo: the bytes themselves when they are one of `type`, else wrapped. */
    private static byte[] asContentInfo(byte[] bytes, ASN1ObjectIdentifier type) throws Exception {
        try {
            ContentInfo ci = ContentInfo.getInstance(ASN1Primitive.fromByteArray(bytes));
            if (ci.getContentType().equals(type)) {
                return bytes;
            }
        } catch (Exception notContentInfo) {
            // the inner structure itself (RFC 5652 nesting)
        }
        return new ContentInfo(type, ASN1Primitive.fromByteArray(bytes)).getEncoded("DER");
    }

    static byte[] unprotect(byte[] cms, X509Certificate recipient, PrivateKey key, X509Certificate signer) throws Exception {
        byte[] compressed = decrypt(cms, recipient, key);
        byte[] signed = decompress(asContentInfo(compressed, CMSObjectIdentifiers.compressedData));
        return verify(asContentInfo(signed, CMSObjectIdentifiers.signedData), signer);
    }
}
