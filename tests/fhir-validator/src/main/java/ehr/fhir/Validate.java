package ehr.fhir;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.context.support.DefaultProfileValidationSupport;
import ca.uhn.fhir.validation.FhirValidator;
import ca.uhn.fhir.validation.ResultSeverityEnum;
import ca.uhn.fhir.validation.SingleValidationMessage;
import ca.uhn.fhir.validation.ValidationResult;
import org.hl7.fhir.common.hapi.validation.support.CommonCodeSystemsTerminologyService;
import org.hl7.fhir.common.hapi.validation.support.InMemoryTerminologyServerValidationSupport;
import org.hl7.fhir.common.hapi.validation.support.SnapshotGeneratingValidationSupport;
import org.hl7.fhir.common.hapi.validation.support.ValidationSupportChain;
import org.hl7.fhir.common.hapi.validation.validator.FhirInstanceValidator;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Validates FHIR R4 JSON files against the R4 core profiles, offline.
 *
 * <p>Usage: {@code java -cp CLASSPATH ehr.fhir.Validate FILE...}. Prints one
 * line per finding, {@code FILE<TAB>SEVERITY<TAB>LOCATION<TAB>MESSAGE}, then
 * {@code errors: N}. Exits 0 when no file has an error or fatal finding, 1
 * when one has, 2 on bad usage or an unreadable file.
 */
public final class Validate {
    private Validate() {}

    public static void main(String[] args) {
        if (args.length == 0) {
            System.err.println("usage: ehr.fhir.Validate FILE...");
            System.exit(2);
        }
        FhirContext ctx = FhirContext.forR4();
        ValidationSupportChain chain = new ValidationSupportChain(
            new DefaultProfileValidationSupport(ctx),
            new InMemoryTerminologyServerValidationSupport(ctx),
            new CommonCodeSystemsTerminologyService(ctx),
            new SnapshotGeneratingValidationSupport(ctx));
        FhirValidator validator = ctx.newValidator();
        validator.registerValidatorModule(new FhirInstanceValidator(chain));
        int errors = 0;
        for (String file : args) {
            String text;
            try {
                text = Files.readString(Path.of(file), StandardCharsets.UTF_8);
            } catch (Exception e) {
                System.err.println("cannot read " + file + ": " + e.getMessage());
                System.exit(2);
                return;
            }
            ValidationResult result = validator.validateWithResult(text);
            for (SingleValidationMessage m : result.getMessages()) {
                String message = m.getMessage().replace('\n', ' ').replace('\t', ' ');
                System.out.println(file + "\t" + m.getSeverity().getCode() + "\t" + m.getLocationString() + "\t" + message);
                if (m.getSeverity().ordinal() >= ResultSeverityEnum.ERROR.ordinal()) {
                    errors++;
                }
            }
        }
        System.out.println("errors: " + errors);
        System.exit(errors == 0 ? 0 : 1);
    }
}
