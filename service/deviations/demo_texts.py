"""Anonymised texts for the demo's deviations, in the words the collaboration's own papers use (seed 004)."""

from __future__ import annotations

from service.deviations.models import DeviationCategory

# How often each category occurs in the demo year (information hand-over dominates, as in seed 004).
CATEGORY_WEIGHTS = {
    DeviationCategory.INFORMATION_TRANSFER: 30, DeviationCategory.DISCHARGE: 20, DeviationCategory.AVAILABILITY: 15,
    DeviationCategory.MEDICATION: 12, DeviationCategory.SIP: 10, DeviationCategory.UNCLEAR_RESPONSIBILITY: 8,
    DeviationCategory.OTHER: 5,
}

DESCRIPTIONS = {
    DeviationCategory.INFORMATION_TRANSFER: [
        "Vid utskrivning från medicinkliniken saknades aktuell läkemedelslista och information om insatser i hemmet. "
        "Hemtjänsten fick uppgifterna först dagen efter.",
        "Inskrivningsmeddelande skickades inte i samordningssystemet trots att den enskilde hade insatser från hemtjänsten.",
        "Remissen till socialtjänsten saknade uppgift om kontaktperson; ärendet blev liggande i två veckor.",
    ],
    DeviationCategory.AVAILABILITY: [
        "Vårdcentralen gick inte att nå per telefon under eftermiddagen; sjuksköterskan i hemsjukvården kunde inte "
        "stämma av en ordination.",
        "Mottagningen svarade inte på samverkansförfrågan inom den tid som överenskommelsen anger.",
        "Ansvarig läkare gick inte att nå under helgen trots upprepade försök.",
    ],
    DeviationCategory.UNCLEAR_RESPONSIBILITY: [
        "Oklart vem som skulle ordna hjälpmedel inför hemgång; ingen part tog ansvar och hemgången försenades.",
        "Parterna var oense om vem som ansvarar för uppföljningen efter avslutad behandling.",
    ],
    DeviationCategory.SIP: [
        "SIP kallades inte trots att den enskilde samtyckt och hade insatser från både kommun och region.",
        "Åtgärderna i SIP genomfördes inte och uppföljningsmötet ställdes in utan att en ny tid bokades.",
    ],
    DeviationCategory.DISCHARGE: [
        "Den enskilde skrevs ut en fredagskväll utan att hemtjänsten underrättats; ingen fanns på plats vid hemkomsten.",
        "Den utskrivningsklara personen blev kvar på avdelningen i fyra dagar i väntan på planering.",
    ],
    DeviationCategory.MEDICATION: [
        "Dosdispenserade läkemedel ändrades vid utskrivningen utan att hemsjukvården informerades.",
        "Läkemedel för tre dagar saknades vid överflyttningen till korttidsboendet.",
    ],
    DeviationCategory.OTHER: ["Kallelsen till samordnad vårdplanering skickades till fel enhet."],
}

UNITS = {
    "Västra Götalandsregionen": ["Medicinkliniken, Alingsås lasarett", "Vårdcentralen Sollebrunn",
                                 "Psykiatriska öppenvårdsmottagningen", "Akutmottagningen, Sahlgrenska"],
    "Göteborgs Stad": ["Hemtjänst Centrum", "Korttidsboende Majorna", "Socialtjänsten Nordost"],
    "Alingsås kommun": ["Hemsjukvården", "Hemtjänst Noltorp", "Socialpsykiatrin"],
    "Lerums kommun": ["Hemtjänst Gråbo", "Vuxenenheten", "Hemsjukvården Lerum"],
}

IMMEDIATE_ACTIONS = ["Kontakt togs per telefon med den mottagande enheten.", "Sjuksköterskan hämtade uppgifterna själv.",
                     "Ansvarig chef informerades samma dag.", ""]

FINDINGS = [
    "Rutinen för utskrivningsmeddelanden var inte känd av nyanställd personal.",
    "Överlämningen skedde muntligt och dokumenterades inte i samordningssystemet.",
    "Telefontiden var bemannad av en person under en period med hög sjukfrånvaro.",
    "Ansvaret mellan enheterna var inte beskrivet i den lokala rutinen.",
]

MEASURES = [
    "Rutinen har gåtts igenom på arbetsplatsträff och checklistan kompletterats.",
    "Introduktionen för nyanställda kompletteras med samverkansrutinerna.",
    "En ersättare utses för avvikelsekontakten vid frånvaro.",
    "Den lokala rutinen revideras tillsammans med kommunen.",
]

IMPROVEMENTS = [
    ("Gemensam checklista för utskrivning i samordningssystemet.", "Processledare vårdsamverkan"),
    ("Utbildning i SIP för personal i hemtjänst och på vårdcentral.", "Utvecklingsgruppen psykisk hälsa"),
    ("Uppdatera telefonrutinen så att samverkansparter når sjuksköterska dagtid.", "Verksamhetschef vårdcentral"),
]
